"""The fast recipe with PyTorch on the CPU: 784-128-10, SGD, batch 128, lr 0.1, momentum 0.9.

    python benchmarks/recipe_torch.py [--epochs N] [--limit N]

Prints one JSON line: test accuracy and training seconds. Run as a whole process by bench.py.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

import mnist_data  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args()
    torch.manual_seed(0)
    data = mnist_data.load_mnist()
    images, labels = data["train"]
    X = torch.from_numpy(images[:args.limit]).float() / 255
    y = torch.from_numpy(labels[:args.limit])
    X_test = torch.from_numpy(data["test"][0]).float() / 255
    y_test = torch.from_numpy(data["test"][1])
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    started = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(len(X))
        for start in range(0, len(X), 128):
            batch = order[start:start + 128]
            optimizer.zero_grad()
            loss_fn(model(X[batch]), y[batch]).backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        accuracy = float((model(X_test).argmax(dim=1) == y_test).float().mean())
    print(json.dumps({"test_accuracy": accuracy, "train_seconds": seconds}))


if __name__ == "__main__":
    main()
