"""Schemathesis hooks for the property run (SCHEMATHESIS_HOOKS): how to write a value of the
schema's own `phone` format. The pattern gives the shape; whether a number exists is
libphonenumber's knowledge, so valid data are numbers that exist."""

import schemathesis
from hypothesis import strategies as st

# Korean mobile numbers 010-2000-0000 to 010-4999-9999 all exist (libphonenumber's metadata).
PHONES = st.builds("010-{:04d}-{:04d}".format, st.integers(2000, 4999), st.integers(0, 9999))
schemathesis.openapi.format("phone", PHONES)
