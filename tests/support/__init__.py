"""What the tests share that is not a fixture: reading VOTable answers, TAP and UWS clients,
starting and stopping servers, the IVOA schemas STILTS ships. Fixtures stay in tests/conftest.py."""
