"""Policies: scripted strategies, and (in later modules) learners and the planner."""
