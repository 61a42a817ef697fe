"""The fast recipe with PyTorch on the CPU: 784-128-10, SGD, batch 128, lr 0.1, momentum 0.9.

    python benchmarks/recipe_torch.py [--epochs N] [--limit N]

Prints one JSON line: test accuracy and training seconds. Run as a whole process by bench.py.
"""

import time

import torch
from recipe_common import print_result, recipe_arguments, recipe_data


def main():
    args = recipe_arguments(__doc__.splitlines()[0])
    torch.manual_seed(0)
    X, y, X_test, y_test = (torch.from_numpy(a) for a in recipe_data(args.limit))
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
        accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    print_result(accuracy, seconds)


if __name__ == "__main__":
    main()
