from rag.sentences import sentence_spans


def test_sentences_with_abbreviations_quotes_and_lines():
    text = ('CNN —\n\nU.S. President Joe Biden said Mr. Smith will go. "It is done," he said. '
            "Prices rose 3.5% in Aug. 2022. Heading\nAnother one? Yes! 42 people came.")
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    assert sentences == ["CNN —", "U.S. President Joe Biden said Mr. Smith will go.", '"It is done," he said.',
                         "Prices rose 3.5% in Aug. 2022.", "Heading", "Another one?", "Yes!", "42 people came."]


def test_spans_are_offsets_into_the_text():
    text = "  First one here.  Second one there.  "
    for a, b in sentence_spans(text):
        assert text[a:b].strip() == text[a:b] and text[a:b].endswith(".")
