"""A prompt is a first-class object: it says which variables its template reads."""

from __future__ import annotations

from portkey_integrations import PortkeyClient
from portkey_integrations._templates.cache import get_template
from portkey_integrations.server import LocalPortkeyServer


def test_prompt_variables_tell_values_sections_and_dotted_names_apart(
    server: LocalPortkeyServer,
) -> None:
    prompt = PortkeyClient(base_url=server.base_url).prompts.retrieve("pp-objects")
    uses = prompt.variables
    assert set(uses) == {"user", "docs", "title"}
    assert uses["title"][0].sections == ("docs",)  # read inside the loop, not required
    assert uses["user"][0].kind == "value" and uses["user"][0].path == ("name",)
    assert uses["docs"][0].kind == "section"
    info = prompt.template_info
    assert info.required == ("user",) and set(info.json_valued) == {"user", "docs"}


def test_the_cached_template_follows_partials(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url)
    created = client.partials.create(name="sig", string="Regards, {{sender}}")
    client.prompts.create(
        name="with-partial",
        string=f'[{{"role": "user", "content": "{{{{body}}}} {{{{>{created.slug}}}}}"}}]',
        parameters={"model": "portkey-local"},
        collection_id="tests",
    )
    slug = next(p.slug for p in client.prompts.list().data if p.name == "with-partial")
    template = get_template(client, slug)
    assert template is not None and template.info is not None
    assert set(template.info.required) == {"body", "sender"}
