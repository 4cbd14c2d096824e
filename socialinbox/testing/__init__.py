"""Platform emulators: real HTTP servers on 127.0.0.1 that speak each platform's wire format.

They back the test suite, ``socialinbox demo`` and users' own integration
tests. They bind to 127.0.0.1 only.
"""
