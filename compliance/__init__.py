"""compliance: licences, emission designators, channel plans, exempt bands, border
coordination, rules -> findings, and violation cases (see docs/ARCHITECTURE.md).

Modules (one idea each)
-----------------------
- :mod:`compliance.designator` — RR Appendix 1 emission designators:
  ``parse_designator("16K0F3E") -> EmissionDesignator``, ``format_designator``,
  ``parse_bandwidth``, ``format_bandwidth``.
- :mod:`compliance.services` — the service vocabulary (``SERVICES``, Vietnamese aliases).
- :mod:`compliance.records` — validated rows: ``Licence``, ``ForeignStation``,
  ``LICENCE_COLUMNS`` / ``FOREIGN_COLUMNS`` (the exact CSV headers).
- :mod:`compliance.importers` — ``read_licences(path)``, ``write_licences(path, rows)``,
  ``read_foreign_stations``, ``write_foreign_stations``: CSV or XLSX, all-or-nothing,
  every bad row named in one ``InputFormatError``.
- :mod:`compliance.reference` — ``load_reference_data(override_dir=None) -> ReferenceData``
  from the YAML in ``compliance/data/`` (channel plans, SRD bands, tolerances,
  coordination triggers, legal basis; sources cited, UNSURE values marked).
- :mod:`compliance.registry` — ``Registry(licences, foreign)``,
  ``Registry.from_files(licences_csv, foreign_csv)``, which licence explains an
  emission (``explains``, ``match_window_hz``, ``adjacent``), and the DB side:
  ``save_licences(session, rows, replace=False)``, ``load_registry(session)``, ...
- :mod:`compliance.classify` — ``classify(emission, registry, reference, site=, on=,
  distance_m=)`` -> ``Classification`` (licensed | foreign | band_licence | exempt |
  not_monitored | unknown, licence matched, ``verify`` when a field check must decide).
- :mod:`compliance.border` — ``distance_to_line_km(site, reference.border)``.
- :mod:`compliance.rules` — ``evaluate(emissions, registry, reference, site=, on=,
  distance_m=)``
  -> ``(classifications, findings)``; ``Finding`` (kind, emission, licence_id,
  measured, permitted, unit, severity, legal_basis, station_id, detail, citation,
  adjacent_licence, matter).
- :mod:`compliance.lifecycle` — case kinds (sanction, coordination), their statuses,
  dismissal reasons, ``check_transition``.
- :mod:`compliance.models` — ORM (tables created by migrations ``0002_compliance``
  and ``0004_legal_coordination``).
- :mod:`compliance.cases` — ``CaseService`` and ``case_summary``.
- :mod:`compliance.vocabulary` — Vietnamese names of the codes, for tables.

The service API for the central ingest
--------------------------------------
::

    from compliance.cases import CaseService
    from compliance.reference import load_reference_data
    from compliance.registry import load_registry
    from compliance.rules import evaluate

    reference = load_reference_data()                 # once, at start-up
    cases = CaseService(session_factory, reference=reference)
    with session_factory() as s:
        registry = load_registry(s)                   # refresh when licences change
    _classes, findings = evaluate(batch_emissions, registry, reference,
                                  site=station_position)
    touched = cases.record_findings(findings, station_id, t_ns)   # -> list[Case]

``record_findings`` folds the findings of each emission into an open case of the same
emitter (class, licence, frequency, time window — across stations) or opens a new one,
all in one transaction; ``t_ns`` is the UTC time of the measurement. Then
``cases.list_cases(status=None)``, ``cases.get(id)``, ``cases.assign(id, user, actor=)``,
``cases.transition(id, status, actor=, reason=, dismiss_reason=)``,
``cases.add_evidence(id, kind, path_or_uri, actor=, sha256=None)``. Illegal moves raise
:class:`~dsp.errors.ComplianceError`; the database refuses them too.
"""
