"""``milchak nlu parse``: run the trained Rasa NLU over text, one JSON object per line.

The app never imports Rasa: parsing runs ``python -m nlu.parse`` in the Rasa virtualenv, which
loads the model once for a whole file.
"""

import os
import subprocess
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
DEFAULT_MODEL = ROOT / "models" / "milchak.tar.gz"


@click.group()
def nlu() -> None:
    """자연어 이해(NLU) 도구."""


@nlu.command()
@click.argument("text", required=False)
@click.option("--file", "file", type=click.Path(allow_dash=True), help="한 줄에 한 문장인 파일.")
@click.option("--now", help="날짜 기준 시각 (ISO, 서울 시간). 기본은 지금.")
@click.option("--model", type=click.Path(dir_okay=False), help="학습된 모델 (.tar.gz).")
def parse(text: str | None, file: str | None, now: str | None, model: str | None) -> None:
    """문장의 의도와 개체(정규화된 값)를 JSON으로 출력합니다."""
    if (text is None) == (file is None):
        raise click.UsageError("TEXT 또는 --file 중 하나만 주세요.")
    model_path = Path(model).resolve() if model else DEFAULT_MODEL
    if not model_path.exists():
        raise click.ClickException(f"모델이 없습니다: {model_path} (make train 을 먼저 실행하세요)")
    if not RASA_PYTHON.exists():
        raise click.ClickException(f"Rasa 가상환경이 없습니다: {RASA_PYTHON} (make setup)")
    command = [str(RASA_PYTHON), "-m", "nlu.parse", "--model", str(model_path)]
    if now:
        command += ["--now", now]
    if file is not None:
        command += ["--file", file if file == "-" else str(Path(file).resolve())]
    else:
        command.append(text or "")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
    }
    sys.exit(subprocess.run(command, cwd=ROOT, env=env, check=False).returncode)
