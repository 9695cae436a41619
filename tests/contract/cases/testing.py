from ..registry import ContractCase

CASE = ContractCase(
    id="test",
    backend="anymail.backends.test.EmailBackend",
    esp_name="Test",
    uses_requests=False,
)
