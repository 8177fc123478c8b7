"""Building blocks shared by the rules: the rule model, property access, stack joins, config."""
