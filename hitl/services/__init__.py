"""Use cases over an open `hitl.desk.Desk`, each in one unit of work."""
