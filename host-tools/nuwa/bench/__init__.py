"""`nuwa bench`: template versus exec (baseline) measurements on a real guest."""
