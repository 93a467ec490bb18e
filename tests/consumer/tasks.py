"""The consumer's Python work."""
import os


def total(n):
    return sum(range(n))


def pid():
    return os.getpid()
