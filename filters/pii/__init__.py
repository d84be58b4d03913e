"""The `pii` stage (`filters.pii.stage`) and what it counts as PII, one module each: number validators
(`validators`), candidate patterns and their scores in context (`scoring`), the pre-check windows
(`windows`) and the presidio engine built from them on first use (`presidio_engine`)."""
