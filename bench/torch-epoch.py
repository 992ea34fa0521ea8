#!/usr/bin/python3
"""
The PyTorch side of `npm run bench` (bench/train-speed.ts): the same model,
data, batch size and optimizer as lstm-mcu's trainer, timed per epoch on one
thread. Reads a JSON job on stdin, prints one JSON line.
"""
import json
import sys
import time

import torch
import torch.nn as nn


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(1)
    torch.manual_seed(job['seed'])
    n, steps, features, outputs = job['n'], job['steps'], job['features'], job['outputs']
    with open(job['x'], 'rb') as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(n, steps, features)
    with open(job['y'], 'rb') as f:
        y = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    nv = job['validation']
    classification = job['task'] == 'classification'
    y = y.long() if classification else y.reshape(n, outputs)
    xv, yv = x[:nv], y[:nv]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            cell = nn.GRU if job['cell'] == 'gru' else nn.LSTM
            self.rnn = cell(features, job['units'], batch_first=True)
            self.head = nn.Linear(job['units'], outputs)

        def forward(self, v):
            out, _ = self.rnn(v)
            return self.head(out[:, -1, :])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=job['learningRate'])
    loss_fn = nn.CrossEntropyLoss() if classification else nn.MSELoss()
    times = []
    for epoch in range(job['epochs']):
        start = time.perf_counter()
        net.train()
        order = torch.randperm(n)
        for i in range(0, n, job['batchSize']):
            idx = order[i:i + job['batchSize']]
            opt.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            loss_fn(net(xv), yv).item()
        times.append(time.perf_counter() - start)
    print(json.dumps({'torch': torch.__version__, 'epochSeconds': times}))


main()
