"""For strategists: which capability makes a difference between two scenarios, and how sure that is."""
