"""The offline plan (docs/architecture.md): the real program under the mock engine, with the policy pack over it.

    runner.py       run `__main__.py` under the mock engine and collect every registration
    mocks.py        the mock engine: a monitor that records, answers per type (mocks_aws.py, mocks_gcp.py)
    mock_values.py  what the answers share: stable digests, builder types
    cli.py          `python -m ops plan`
"""
