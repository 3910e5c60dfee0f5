"""SIA 2.0's self-description (sec. 3.1.2): a service descriptor of the {query} resource listing
its parameters (from the declared table), with the values present in the archive for the
enumerated ones.
"""

from __future__ import annotations

from dalserver.dali.descriptors import InputParam, ServiceDescriptor
from dalserver.obscore.values import ObsCoreValues
from dalserver.sia.parameters import PARAMETERS
from ivoa.vocabulary import StandardID


def self_descriptor(query_url: str, values: ObsCoreValues) -> ServiceDescriptor:
    # SIA 2.0's example descriptor puts xtype circle/range/polygon on char POS parameters and
    # "interval" on arraysize="*": DALI (and votlint) reject both, so DALI's forms are used here.
    present = dict(values)
    inputs = [
        InputParam(
            p.name,
            datatype=p.datatype,
            arraysize=p.arraysize,
            xtype=p.xtype,
            unit=p.unit,
            description=p.description,
            options=present.get(p.column, ()) if p.options_from_archive else (),
        )
        for p in PARAMETERS
    ]
    inputs.append(InputParam("MAXREC", datatype="int", arraysize=None, description="Rows to return at most"))
    inputs.append(InputParam("RESPONSEFORMAT", description="Output format (as TAP's RESPONSEFORMAT)"))
    return ServiceDescriptor(
        access_url=query_url,
        standard_id=StandardID.SIA2,
        name="this",
        description="This SIA 2.0 service",
        inputs=inputs,
    )
