"""What the LangChain and LlamaIndex adapters share: model settings, messages to
variables, and trace context. Imports no framework."""
