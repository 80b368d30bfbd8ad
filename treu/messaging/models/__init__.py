"""The messaging models, one module per part; every model is re-exported here."""
