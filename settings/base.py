"""What every settings group shares: read from NEWSDESK_* environment variables and ``.env``."""

from pydantic_settings import SettingsConfigDict

ENV = SettingsConfigDict(env_prefix="NEWSDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
                         populate_by_name=True)
