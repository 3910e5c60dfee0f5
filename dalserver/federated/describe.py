"""The federated search's self-description (SIA 2.0 sec. 3.1.2): a service descriptor of its
{query} resource listing SIA's parameters (from the declared table) and LIVE."""

from __future__ import annotations

from dalserver.dali.descriptors import InputParam, ServiceDescriptor
from dalserver.federated.parameters import LIVE
from dalserver.sia.parameters import PARAMETERS
from ivoa.vocabulary import StandardID


def self_descriptor(query_url: str) -> ServiceDescriptor:
    # No OPTION lists: the cache's values are other archives', too many to enumerate per request.
    inputs = [
        InputParam(
            p.name, datatype=p.datatype, arraysize=p.arraysize, xtype=p.xtype, unit=p.unit, description=p.description
        )
        for p in PARAMETERS
    ]
    inputs.append(InputParam("MAXREC", datatype="int", arraysize=None, description="Rows to return at most"))
    inputs.append(InputParam("RESPONSEFORMAT", description="Output format (as TAP's RESPONSEFORMAT)"))
    inputs.append(InputParam(LIVE.name, description=LIVE.description, options=("false", "true")))
    return ServiceDescriptor(
        access_url=query_url,
        standard_id=StandardID.SIA2,
        name="this",
        description="This federated SIA 2.0 search of other archives' images",
        inputs=inputs,
    )
