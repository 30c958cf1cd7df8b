# integration-test helpers for the apache area
