"""Question -> plan -> evidence -> answer -> checked citations."""
