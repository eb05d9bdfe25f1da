"""The browser console: DCASS Online, the CCMS Terminal, the OTC Clear member view and the operator's
desk, as a web application that is a client of the gateway like any other.

Every page and action goes through the SDK (``clients/``) over the OAPI-style protocol, as the person
logged in, with one SDK session per browser login: the console never imports ``gateway/`` and never
reads the core. See docs/guides/console.md.
"""
