import pytest

from isp_billing.errors import ConfigurationError
from isp_billing.settings import LOCAL_DEV_JWT_SECRET, get_settings, reset_settings_cache


@pytest.fixture
def fresh_settings(monkeypatch):
    for name in (
        "DATABASE_URL",
        "DATABASE_SECRET_ARN",
        "APP_SECRETS_ARN",
        "JWT_SECRET",
        "JWT_JWKS_URL",
        "CRON_SECRET",
        "STAGE",
    ):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    yield monkeypatch
    reset_settings_cache()


def test_a_deployed_stage_without_a_database_names_the_variable(fresh_settings):
    # Given a prod stage with a JWT secret but no database setting
    fresh_settings.setenv("STAGE", "prod")
    fresh_settings.setenv("JWT_SECRET", "a-real-secret-of-enough-length-123456")
    # When settings are read / Then start-up fails naming DATABASE_URL
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        get_settings()


def test_a_deployed_stage_refuses_the_local_development_secret(fresh_settings):
    fresh_settings.setenv("STAGE", "prod")
    fresh_settings.setenv("DATABASE_URL", "postgresql://db.example/x")
    fresh_settings.setenv("JWT_SECRET", LOCAL_DEV_JWT_SECRET)
    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        get_settings()


def test_placeholder_secrets_are_refused(fresh_settings):
    # Given a cron secret left at a placeholder
    fresh_settings.setenv("CRON_SECRET", "changeme")
    # When settings are read / Then the variable is named
    with pytest.raises(ConfigurationError, match="CRON_SECRET"):
        get_settings()


def test_an_invalid_value_names_its_variable(fresh_settings):
    fresh_settings.setenv("STAGE", "moon")
    with pytest.raises(ConfigurationError, match="STAGE"):
        get_settings()


def test_empty_cloudformation_parameters_count_as_unset(fresh_settings):
    # Given empty strings, as CloudFormation passes parameters left blank
    fresh_settings.setenv("JWT_JWKS_URL", "")
    fresh_settings.setenv("JWT_ISSUER", "")
    # When settings are read / Then they are None, so no empty issuer is enforced
    settings = get_settings()
    assert settings.jwt_jwks_url is None and settings.jwt_issuer is None


def test_secrets_are_not_in_the_settings_repr(fresh_settings):
    fresh_settings.setenv("JWT_SECRET", "super-secret-value-123456789")
    assert "super-secret-value" not in repr(get_settings())
