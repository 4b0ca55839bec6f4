"""What reading costs with 8 layers (the shipped answer model) and with all 12 of e5-small's.

Issue 26 asked to measure all 12 layers trained against the shipped 8. Before spending the hours
of CPU training, this measures the one thing that does not need the training: the time to read
the product's 4 sentences (`ReaderPolicy.candidates`) as the answer path reads them (one torch
thread, `Reader.read`, the CPU's precision), with the shipped weights for 8 layers and the same
architecture, untrained, for 12 (the weights do not change the time). Rounds alternate.

    .venv/bin/python benchmarks/reader_layers_latency.py [--rounds 2] [--repeats 15]

Writes results/reader_layers_latency.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
from _common import table, write_result

from assistant.models.embedding import torch_threads
from assistant.models.reader.model import (CONFIG_FILE, WEIGHTS_DIR, Reader, ReaderConfig, ReaderInput,
                                           auto_precision, build_net, cpu_flags, default_base_folder,
                                           load_trained_state)

QUESTION = "Wer ist Chef von T-Systems?"
TITLE = "Telekom und Microsoft weiten Partnerschaft aus"
# Four sentences of a shipped article, each with the sentence before it, as reading.reader_input
# gives them.
WINDOWS = [
    ReaderInput('"Diese Partnerschaft wird es uns ermöglichen, die Dienstleistungen für unsere Kunden zu '
                'verbessern", sagte T-Systems-Chef Adel Al-Saleh.', TITLE,
                "Die Telekom baut ihre Partnerschaft mit Microsoft aus."),
    ReaderInput("Der T-System-Chef betonte, auch die Deutsche Telekom selbst bewege sich mit der eigenen IT "
                "immer stärker in Richtung öffentliche Cloud.", TITLE, ""),
    ReaderInput("Zum einen umfasst die Kooperation nicht nur T-Systems, sondern die Deutsche Telekom insgesamt.",
                TITLE, "Während es damals vor allem um die Vernetzung der Geräte im Internet der Dinge ging, "
                       "ist die neue Partnerschaft breiter angelegt."),
    ReaderInput("Es gebe zwar bestimmte Aufgaben, die der Konzern lieber in der eigenen Open Telekom Cloud "
                "erledigen lasse.", TITLE, "Der T-System-Chef betonte, auch die Deutsche Telekom selbst bewege "
                                           "sich mit der eigenen IT immer stärker in Richtung öffentliche Cloud."),
]


def reader_with(layers: int, shipped: ReaderConfig) -> Reader:
    config = dataclasses.replace(shipped, num_layers=layers)
    net, tokenizer = build_net(default_base_folder(), config)
    if layers == shipped.num_layers:
        load_trained_state(net, WEIGHTS_DIR)
    net.merge_adapters()
    return Reader(net, tokenizer, config, precision=auto_precision(cpu_flags()))


def median_ms(reader: Reader, repeats: int) -> float:
    for _ in range(3):
        reader.read(QUESTION, WINDOWS)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        reader.read(QUESTION, WINDOWS)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    shipped = ReaderConfig.from_dict(json.loads((WEIGHTS_DIR / CONFIG_FILE).read_text(encoding="utf-8")))
    readers = {layers: reader_with(layers, shipped) for layers in (shipped.num_layers, 12)}
    times: dict[int, list[float]] = {layers: [] for layers in readers}
    with torch_threads(1):
        for _ in range(args.rounds):
            for layers, reader in readers.items():
                times[layers].append(round(median_ms(reader, args.repeats), 1))
    rows = [{"layers": layers, "precision": readers[layers].precision, "windows": len(WINDOWS),
             "median ms per round": times[layers], "median ms": round(float(np.median(times[layers])), 1)}
            for layers in readers]
    print(table(rows, list(rows[0])))
    print(f"wrote {write_result('reader_layers_latency', {'rows': rows})}")


if __name__ == "__main__":
    main()
