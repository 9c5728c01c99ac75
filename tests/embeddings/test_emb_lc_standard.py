"""langchain-tests' standard embedding suites, wired to PortkeyEmbeddings and the local server."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from portkey_integrations.langchain.embeddings import PortkeyEmbeddings
from portkey_integrations.server import LocalPortkeyServer


class TestPortkeyEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[PortkeyEmbeddings]:
        return PortkeyEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "text-embedding-3-small", "dimensions": 64}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"PORTKEY_API_KEY": "pk-from-env"},
            {"model": "text-embedding-3-small"},
            {"api_key": "pk-from-env", "model": "text-embedding-3-small"},
        )


class TestPortkeyEmbeddingsIntegration(EmbeddingsIntegrationTests):
    server: LocalPortkeyServer

    @pytest.fixture(autouse=True)
    def _local_server(self, server: LocalPortkeyServer) -> None:
        # The suite reads its parameters from properties, which cannot take fixtures.
        self.server = server

    @property
    def embeddings_class(self) -> type[PortkeyEmbeddings]:
        return PortkeyEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "text-embedding-3-small", "base_url": self.server.base_url}


class TestPortkeyEmbeddingsIntegrationBase64(TestPortkeyEmbeddingsIntegration):
    """The same suite with vectors sent as base64 and shortened."""

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {**super().embedding_model_params, "encoding_format": "base64", "dimensions": 32}
