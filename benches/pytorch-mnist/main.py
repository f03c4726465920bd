"""A training script with the structure and output of pytorch/examples `mnist/main.py`
(argparse flags, a small CNN, Adadelta with StepLR, `train()` printing `Train Epoch: ...`
every --log-interval batches and `test()` printing the `Test set: Average loss: ...` block
after every epoch), written for this bench and run on the digits the project ships
(shared/data/mnist-10k-*.gz, IDX format) instead of torchvision's download.

It knows nothing of hyperband: it takes --epochs as an int, trains from scratch every time
and never checkpoints, like the script it imitates. benches/pytorch-mnist/run.sh tunes it.

    python main.py --epochs 3 --lr 1.0 --gamma 0.7
"""
import argparse
import gzip
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
# The repository is two levels up; the shared data folder sits beside it (../shared).
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(16 * 12 * 12, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def read_idx(path):
    """An IDX file (gzipped or not) as a numpy array of unsigned bytes."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        raise SystemExit("{}: not an IDX file of unsigned bytes".format(path))
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find(data_dir, stem):
    for name in (stem + ".gz", stem):
        for prefix in ("mnist-10k-", "train-", ""):
            path = os.path.join(data_dir, prefix + name)
            if os.path.exists(path):
                return path
    raise SystemExit("no {} file in {} (give the folder with --data)".format(stem, data_dir))


def load_digits(data_dir, train_size, test_size):
    """The first train_size digits to train on and the last test_size to test on (the
    shipped file is shuffled once, so any prefix holds all ten classes), normalized with
    MNIST's mean and standard deviation as the example's transform does."""
    images = read_idx(find(data_dir, "images-idx3-ubyte"))
    labels = read_idx(find(data_dir, "labels-idx1-ubyte"))
    if train_size + test_size > len(images):
        raise SystemExit("--train-size + --test-size exceed the {} digits in {}".format(
            len(images), data_dir))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - 0.1307) / 0.3081
    y = torch.from_numpy(labels.astype(np.int64))
    train = TensorDataset(x[:train_size], y[:train_size])
    test = TensorDataset(x[len(x) - test_size:], y[len(y) - test_size:])
    return train, test


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)

    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))


def main():
    # Training settings
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example (bundled digits)')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                        help='input batch size for training (default: 64)')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N',
                        help='input batch size for testing (default: 1000)')
    parser.add_argument('--epochs', type=int, default=14, metavar='N',
                        help='number of epochs to train (default: 14)')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR',
                        help='learning rate (default: 1.0)')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M',
                        help='Learning rate step gamma (default: 0.7)')
    parser.add_argument('--no-accel', action='store_true',
                        help='disables accelerator')
    parser.add_argument('--dry-run', action='store_true',
                        help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S',
                        help='random seed (default: 1)')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N',
                        help='how many batches to wait before logging training status')
    parser.add_argument('--save-model', action='store_true',
                        help='For Saving the current Model')
    parser.add_argument('--data', default=DEFAULT_DATA, metavar='DIR',
                        help='folder with the IDX digit files (default: %(default)s)')
    parser.add_argument('--train-size', type=int, default=2000, metavar='N',
                        help='digits to train on, from the start of the file (default: 2000)')
    parser.add_argument('--test-size', type=int, default=1000, metavar='N',
                        help='digits to test on, from the end of the file (default: 1000)')
    parser.add_argument('--threads', type=int, default=1, metavar='N',
                        help='torch CPU threads (default: 1)')
    args = parser.parse_args()

    use_accel = not args.no_accel and torch.accelerator.is_available()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if use_accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")

    train_kwargs = {'batch_size': args.batch_size, 'shuffle': True}
    test_kwargs = {'batch_size': args.test_batch_size}

    dataset1, dataset2 = load_digits(args.data, args.train_size, args.test_size)
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), "mnist_cnn.pt")


if __name__ == '__main__':
    main()
