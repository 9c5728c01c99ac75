"""``with_structured_output`` for the chat model (imported only when it is used)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any, Literal

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_function, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

__all__ = ["StructuredMethod", "response_format_for", "structured_output"]

StructuredMethod = Literal["function_calling", "json_schema", "json_mode"]


def response_format_for(schema: Mapping[str, Any] | type, strict: bool | None) -> dict[str, Any]:
    """OpenAI's ``response_format`` for a schema (pydantic class, TypedDict, JSON schema,
    an OpenAI tool, or an already formed ``json_schema`` response format)."""
    if (
        isinstance(schema, Mapping)
        and schema.get("type") == "json_schema"
        and ("json_schema" in schema)
    ):
        return dict(schema)
    if isinstance(schema, Mapping) and "name" in schema and "schema" in schema:
        json_schema = dict(schema)
    else:
        function = convert_to_openai_function(schema, strict=strict)
        json_schema = {
            "name": function["name"],
            "description": function.get("description", ""),
            "schema": function["parameters"],
        }
    if strict is not None:
        json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}


def _pydantic_from_json(schema: type) -> Callable[[AIMessage], Any]:
    def parse(message: AIMessage) -> Any:
        if message.tool_calls:
            # The model answered with a tool call instead; nothing to parse.
            return None
        data = json.loads(message.text)
        # pydantic 2 models, or pydantic.v1 models (parse_obj).
        validate = getattr(schema, "model_validate", None) or getattr(schema, "parse_obj")  # noqa: B009
        return validate(data)

    return parse


def structured_output(
    model: Any,
    schema: Mapping[str, Any] | type | None,
    *,
    method: StructuredMethod,
    include_raw: bool,
    strict: bool | None,
    tools: list[Any] | None,
    kwargs: dict[str, Any],
) -> Runnable[LanguageModelInput, Any]:
    """Build the structured-output runnable, as langchain-openai does."""
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    trace = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
    output_parser: Runnable[Any, Any]
    if method == "function_calling":
        if schema is None:
            raise ValueError("schema must be specified when method is not 'json_mode'.")
        tool_name = convert_to_openai_tool(schema)["function"]["name"]
        llm = model.bind_tools(
            [schema],
            tool_choice=tool_name,
            parallel_tool_calls=False,
            strict=strict,
            ls_structured_output_format=trace,
            **kwargs,
        )
        if is_pydantic:
            output_parser = PydanticToolsParser(tools=[schema], first_tool_only=True)
        else:
            output_parser = JsonOutputKeyToolsParser(key_name=tool_name, first_tool_only=True)
    elif method == "json_mode":
        llm = model.bind(
            response_format={"type": "json_object"},
            ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
            **kwargs,
        )
        output_parser = (
            PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
        )
    elif method == "json_schema":
        if schema is None:
            raise ValueError("schema must be specified when method is not 'json_mode'.")
        bind_kwargs: dict[str, Any] = {
            "response_format": response_format_for(schema, strict),
            "ls_structured_output_format": trace,
            **kwargs,
        }
        if tools:
            bind_kwargs["tools"] = [convert_to_openai_tool(t, strict=strict) for t in tools]
        llm = model.bind(**bind_kwargs)
        if is_pydantic:
            assert isinstance(schema, type)
            output_parser = RunnableLambda(_pydantic_from_json(schema)).with_types(
                output_type=schema
            )
        else:
            output_parser = JsonOutputParser()
    else:
        raise ValueError(
            f"method must be 'function_calling', 'json_schema' or 'json_mode', got {method!r}"
        )
    if include_raw:
        parser_assign = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | output_parser, parsing_error=lambda _: None
        )
        parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
        parser_with_fallback = parser_assign.with_fallbacks(
            [parser_none], exception_key="parsing_error"
        )
        return RunnableMap(raw=llm) | parser_with_fallback
    return llm | output_parser  # type: ignore[no-any-return]
