"""Many videos through one client: the run, what decides the next call, results and events."""
