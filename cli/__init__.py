"""`complaints`: the staff CLI. Parse, call the application layer, print the answer."""
