"""``milchak import``: employees and policyholders from CSV (placeholder)."""

import click


@click.group("import")
def import_group() -> None:
    """CSV 파일에서 실제 데이터를 가져옵니다."""
