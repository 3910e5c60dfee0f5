"""What the archive cannot know about itself and the registry needs: who publishes it, whom to
contact, who made the data, what it is about. The operator writes it once in a small YAML file
(``$DALSERVER_HOME/registry.yaml``, or the file ``DALSERVER_REGISTRY_FILE`` names); every key
has a demo default, so a fresh archive has complete, valid records.

Example::

    publisher: Example Observatory Data Centre
    contact: {name: Archive operators, email: vo-support@example.org}
    creators: [{name: "Example Survey Team"}]
    subjects: [surveys, galaxies]          # UAT concepts, https://www.ivoa.net/rdf/uat
    description: Images and catalogues of the Example survey.
    catalogs:
      sxds.photometry: {description: ..., subjects: [photometry], waveband: [Optical]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dalserver.dali.faults import FatalFault


class RegistryConfigError(ValueError):
    """The operator's registry file cannot be read or says something impossible."""


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None = None
    address: str | None = None
    telephone: str | None = None


@dataclass(frozen=True)
class Creator:
    name: str
    logo: str | None = None


@dataclass(frozen=True)
class ResourceOverride:
    """What the operator says about one collection or catalogue, in addition to what the archive knows."""

    title: str | None = None
    description: str | None = None
    subjects: tuple[str, ...] = ()
    waveband: tuple[str, ...] = ()
    creators: tuple[Creator, ...] = ()


@dataclass(frozen=True)
class RegistryConfig:
    publisher: str = "dalserver demo data centre"
    publisher_ivoid: str | None = None
    # A role address that outlives any one person (the registry shows it to the world).
    contact: Contact = Contact("Archive operators", "vo-support@example.org")
    creators: tuple[Creator, ...] = (Creator("dalserver demo data centre"),)
    subjects: tuple[str, ...] = ("astronomical-databases",)
    description: str = (
        "A data centre serving its archive to the Virtual Observatory with dalserver: images and "
        "catalogues through TAP, SIA, Simple Cone Search, DataLink and SODA."
    )
    organisation: str | None = None  # the authority's managing organisation; default: the publisher
    reference_url: str | None = None  # a page about the archive; default: the TAP landing page
    rights: str | None = "Free to use; please acknowledge the data centre."
    content_level: tuple[str, ...] = ("research",)
    collections: dict[str, ResourceOverride] = field(default_factory=dict)
    catalogs: dict[str, ResourceOverride] = field(default_factory=dict)

    @property
    def managing_org(self) -> str:
        return self.organisation or self.publisher


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RegistryConfigError(f"{where} must be a word or a list of words")


def _creators(value: Any, where: str) -> tuple[Creator, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    creators = []
    for item in items:
        if isinstance(item, str):
            creators.append(Creator(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            creators.append(Creator(item["name"], item.get("logo")))
        else:
            raise RegistryConfigError(f"{where}: a creator is a name or {{name: ..., logo: ...}}")
    return tuple(creators)


def _override(value: Any, where: str) -> ResourceOverride:
    if not isinstance(value, dict):
        raise RegistryConfigError(f"{where} must be a mapping (title, description, subjects, waveband, creators)")
    unknown = set(value) - {"title", "description", "subjects", "waveband", "creators"}
    if unknown:
        raise RegistryConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return ResourceOverride(
        title=value.get("title"),
        description=value.get("description"),
        subjects=_strings(value.get("subjects"), f"{where}.subjects"),
        waveband=_strings(value.get("waveband"), f"{where}.waveband"),
        creators=_creators(value.get("creators"), f"{where}.creators"),
    )


_KEYS = {
    "publisher",
    "publisher_ivoid",
    "contact",
    "creators",
    "subjects",
    "description",
    "organisation",
    "reference_url",
    "rights",
    "content_level",
    "collections",
    "catalogs",
}


def parse_config(data: Any, where: str) -> RegistryConfig:
    if data is None:
        return RegistryConfig()
    if not isinstance(data, dict):
        raise RegistryConfigError(f"{where}: the registry file must be a YAML mapping")
    unknown = set(data) - _KEYS
    if unknown:
        raise RegistryConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KEYS))}"
        )
    default = RegistryConfig()
    contact = default.contact
    if "contact" in data:
        raw = data["contact"]
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise RegistryConfigError(f"{where}: contact needs at least a name (and should have a role e-mail address)")
        contact = Contact(raw["name"], raw.get("email"), raw.get("address"), raw.get("telephone"))
    sections: dict[str, dict[str, ResourceOverride]] = {}
    for section in ("collections", "catalogs"):
        raw = data.get(section) or {}
        if not isinstance(raw, dict):
            raise RegistryConfigError(f"{where}: {section} must map names to their descriptions")
        sections[section] = {str(k): _override(v, f"{where}: {section}.{k}") for k, v in raw.items()}
    return RegistryConfig(
        publisher=str(data.get("publisher", default.publisher)),
        publisher_ivoid=data.get("publisher_ivoid"),
        contact=contact,
        creators=_creators(data["creators"], f"{where}: creators") if "creators" in data else default.creators,
        subjects=_strings(data["subjects"], f"{where}: subjects") if "subjects" in data else default.subjects,
        description=str(data.get("description", default.description)).strip(),
        organisation=data.get("organisation"),
        reference_url=data.get("reference_url"),
        rights=data.get("rights", default.rights),
        content_level=_strings(data["content_level"], f"{where}: content_level")
        if "content_level" in data
        else default.content_level,
        collections=sections["collections"],
        catalogs=sections["catalogs"],
    )


def load_config(path: Path) -> RegistryConfig:
    """The operator's file, or the demo defaults when there is none."""
    if not path.is_file():
        return RegistryConfig()
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryConfigError(f"{path}: cannot read the registry file: {exc}") from None
    return parse_config(data, str(path))


def config_fault(exc: RegistryConfigError) -> FatalFault:
    return FatalFault(f"the operator's registry file is wrong: {exc}")
