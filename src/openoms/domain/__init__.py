"""Pure rules of the OMS: standard library only, deterministic, `now` passed in."""
