"""The shared types below every other Lianhu package: errors, settings, messages, rendering parts,
conversation types and the demand catalog. Imports no other Lianhu package."""
