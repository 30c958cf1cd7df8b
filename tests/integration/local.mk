# integration helpers (C drivers used by the pytest suite)
