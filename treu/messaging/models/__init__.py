"""The messaging models, one module per part; every model is re-exported here."""

from treu.messaging.models.consent import (
    PURPOSE_NEWSLETTER,
    AppendOnlyError,
    Channel,
    Consent,
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentText,
    Frequency,
    LegalBasis,
    Topic,
    WithdrawalMethod,
)

__all__ = [
    "PURPOSE_NEWSLETTER", "AppendOnlyError", "Channel", "Consent", "ConsentAction",
    "ConsentRecord", "ConsentSource", "ConsentState", "ConsentText", "Frequency", "LegalBasis",
    "Topic", "WithdrawalMethod",
]  # fmt: skip
