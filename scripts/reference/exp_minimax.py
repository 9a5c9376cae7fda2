#!/usr/bin/env python3
"""Minimax (Remez exchange) polynomial for e^r on [-ln2/2, ln2/2] in relative error: the coefficients of the vector
exp in Sources/TensorKernels/Internal.h. Not a fixture generator: run it with the reference venv's python to re-derive
the constants (prints the degree-6 coefficients, the equioscillation error E and the error with float32 coefficients).
"""
import numpy as np
h = np.log(2)/2
deg = 6
n = deg + 2
pts = np.cos(np.linspace(np.pi, 0, n)) * h
grid = np.linspace(-h, h, 400001)
for it in range(40):
    A = np.zeros((n, n)); b = np.zeros(n)
    for i, r in enumerate(pts):
        A[i, :deg+1] = [r**k for k in range(0, deg+1)]
        A[i, deg+1] = -((-1)**i) * np.exp(r)
        b[i] = np.exp(r)
    sol = np.linalg.solve(A, b)
    c = sol[:deg+1]; E = sol[deg+1]
    err = np.polyval(c[::-1], grid) / np.exp(grid) - 1
    s = np.sign(err); idx = []; start = 0
    for j in range(1, len(grid)+1):
        if j == len(grid) or s[j] != s[start]:
            seg = np.arange(start, j); idx.append(seg[np.argmax(np.abs(err[seg]))]); start = j
    while len(idx) > n:
        if abs(err[idx[0]]) < abs(err[idx[-1]]): idx.pop(0)
        else: idx.pop()
    pts = grid[idx]
print("E", E, "max", np.max(np.abs(err)))
c32 = np.array(c, dtype=np.float32)
for k in range(deg+1): print(f"c{k} = {c[k]:.12e}  f32 {c32[k].item():.9e}")
# error of float32-rounded coefficients in double evaluation
err32 = np.polyval(c32.astype(np.float64)[::-1], grid) / np.exp(grid) - 1
print("with f32 coeffs", np.max(np.abs(err32)))
