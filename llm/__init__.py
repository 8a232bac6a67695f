"""The language models newsdesk talks to: the OpenAI-compatible client (``llm.client``), the packaged local
models assembled from part wheels (``llm.models``) and the llama.cpp server newsdesk supervises for them
(``llm.server``)."""
