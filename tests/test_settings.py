import pytest

from ingestion.errors import ConfigError
from ingestion.settings import DEFAULT_DATABASE_URL, Settings


def test_defaults_give_the_local_mode() -> None:
    s = Settings.from_env({})
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.is_local
    assert s.redis_url is None
    assert s.max_file_size_bytes == 50 * 1024 * 1024
    assert (s.match_auto_threshold, s.match_potential_threshold, s.match_max_candidates) == (95, 70, 5)


def test_values_are_read_and_typed() -> None:
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@h/db",
            "RABBITMQ_URL": "amqp://guest:guest@localhost:5672/",
            "REDIS_URL": "redis://localhost:6379/0",
            "MAX_FILE_SIZE_MB": "2.5",
            "USE_ML_PROCESSING": "false",
        }
    )
    assert not s.is_local
    assert s.max_file_size_bytes == int(2.5 * 1024 * 1024)
    assert s.use_ml_processing is False


@pytest.mark.parametrize(
    "env, var",
    [
        ({"MAX_FILE_SIZE_MB": "ten"}, "MAX_FILE_SIZE_MB"),
        ({"MAX_FILE_SIZE_MB": "-1"}, "MAX_FILE_SIZE_MB"),
        ({"USE_ML_PROCESSING": "maybe"}, "USE_ML_PROCESSING"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"RABBITMQ_URL": "http://x", "REDIS_URL": "redis://x"}, "RABBITMQ_URL"),
        ({"MATCH_AUTO_THRESHOLD": "120"}, "MATCH_AUTO_THRESHOLD"),
        ({"MATCH_AUTO_THRESHOLD": "60"}, "MATCH_POTENTIAL_THRESHOLD"),
        ({"RABBITMQ_URL": "amqp://x"}, "REDIS_URL"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], var: str) -> None:
    with pytest.raises(ConfigError, match=var):
        Settings.from_env(env)
