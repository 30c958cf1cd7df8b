# CURP/RFC/password/token unit tests
