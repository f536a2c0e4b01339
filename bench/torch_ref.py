#!/usr/bin/env python3
"""PyTorch reference for bench/compare.ts: the same workloads as our TypeScript side, written in
plain PyTorch (no TransformerLens / SAELens / transformers needed).

Workloads (shapes in bench/workloads.json, shared with compare.ts; --small for smoke tests):
  forward    GPT-2-small-shaped decoder (12 layers, d_model 768, 12 heads, d_mlp 3072, vocab 50257,
             gelu_new, LayerNorm eps 1e-5, weights normal(0, 0.02)) at 1x128 and 8x128; logits
             [batch, pos, d_vocab] materialised.
  cache      the same forward, storing a clone of every activation TransformerLens caches by default
             (208 for GPT-2 small: hook_embed, hook_pos_embed, per block resid_pre/mid/post,
             ln1/ln2 scale+normalized, q/k/v/z, attn_scores, pattern, attn_out, mlp pre/post/out,
             ln_final scale+normalized).
  patching   TL get_act_patch_resid_pre on a 1xP clean/corrupted pair (one token differs) with the
             logit-difference metric: clean run_with_cache, then n_layers*P patched runs batched as
             our genericActivationPatch does (K = min(64, 1024 // (batch*pos)) copies of the corrupted
             prompt per forward, copy k patched at its own (layer, pos)): same number of forwards.
  sae        one training step of a 768->6144 SAE on a 4096-token batch: standard (ReLU, MSE + L1
             scaled by decoder norms) and topk (k=32, ReLU of the top-k, dense decoder); autograd,
             global-norm clipping at 1, Adam, step statistics read back.
  probe      DistilBERT-shaped encoder (6 layers, 768, 12 heads, ffn 3072, vocab 30522, erf GELU, post-LN,
             eps 1e-12): q_lin of layer L mean-pooled over the attention mask for 32 padded texts of up
             to 128 tokens, batched 16 at a time sorted by length and trimmed, stopping after layer L
             (as src/probe/features.ts extractPooledFeatures).

Run: OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_ref.py \
       [--threads 1] [--runs 5] [--only forward,cache,patching,sae,probe] [--small] [--json]
(unset OpenBLAS/OpenMP variables are filled in by re-executing; see docs/performance.md).
"""
import argparse
import ctypes
import json
import math
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GROUPS = ['forward', 'cache', 'patching', 'sae', 'probe']


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--only', default=','.join(GROUPS))
    ap.add_argument('--small', action='store_true')
    ap.add_argument('--json', action='store_true')
    return ap.parse_args()


def ensure_env(threads):
    """Set the BLAS/OpenMP variables before torch loads libopenblas (re-exec if any was missing)."""
    want = {'OMP_WAIT_POLICY': 'PASSIVE', 'OMP_NUM_THREADS': str(threads), 'OPENBLAS_NUM_THREADS': str(threads)}
    with open('/proc/cpuinfo') as f:
        if 'avx512f' in f.read():  # OpenBLAS 0.3.21 mis-detects AVX-512 Zen 4 cores
            want['OPENBLAS_CORETYPE'] = 'SkylakeX'
    missing = {k: v for k, v in want.items() if k not in os.environ}
    if missing and os.environ.get('TORCH_REF_REEXEC') != '1':
        env = {**os.environ, **missing, 'TORCH_REF_REEXEC': '1'}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


ARGS = parse_args()
ensure_env(ARGS.threads)

import torch  # noqa: E402  (after the environment is set)
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)
log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if ARGS.json else print


# ---------------------------------------------------------------- timing, environment

MIN_SAMPLE_S = 1.0  # as bench/timing.ts: a workload faster than this is called several times per timed run


def time_median(fn, runs):
    """One warm-up call, then the median of `runs` timed runs (upper median, as bench/common.ts), each of
    ceil(MIN_SAMPLE_S / warm-up seconds) calls (1 to 100) divided by the count."""
    w0 = time.perf_counter()
    fn()
    calls = max(1, min(100, math.ceil(MIN_SAMPLE_S / max(time.perf_counter() - w0, 1e-6))))
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        ts.append((time.perf_counter() - t0) / calls)
    return sorted(ts)[len(ts) // 2]


def blas_info():
    torch.randn(64, 64) @ torch.randn(64, 64)  # make sure the BLAS library is loaded
    with open('/proc/self/maps') as f:
        libs = sorted({ln.split()[-1] for ln in f if 'blas' in ln.split()[-1] or 'mkl' in ln.split()[-1]})
    info = {'loaded': libs, 'torch_blas_info': None, 'openblas_config': None, 'openblas_core': None}
    for part in torch.__config__.show().replace('\n', ',').split(','):
        if 'BLAS_INFO=' in part and 'LAPACK' not in part:
            info['torch_blas_info'] = part.strip().split('=', 1)[1]
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            cfg, core = lib.openblas_get_config, lib.openblas_get_corename
            cfg.restype = core.restype = ctypes.c_char_p
            info['openblas_config'], info['openblas_core'] = cfg().decode(), core().decode()
            break
        except (OSError, AttributeError):
            continue
    alt = '/usr/lib/x86_64-linux-gnu/libblas.so.3'
    info['libblas_alternative'] = os.path.realpath(alt) if os.path.exists(alt) else None
    info['name'] = (' '.join(info['openblas_config'].split()[:2]) + f' ({info["openblas_core"]})' if info['openblas_config']
                    else (libs[0] if libs else info['torch_blas_info']))
    return info


def debian_version():
    try:
        return subprocess.run(['dpkg-query', '-W', '-f=${Version}', 'python3-torch'],
                              capture_output=True, text=True, check=True).stdout or None
    except (OSError, subprocess.CalledProcessError):
        return None


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# ---------------------------------------------------------------- GPT-2 decoder

def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def no_hook(_name, x):
    return x


class GPT2:
    """TransformerLens-layout GPT-2 (W_Q [d, h*e], separate W_U) with a hook(name, tensor) callback."""

    def __init__(self, c, seed=0):
        g = torch.Generator().manual_seed(seed)
        d, m, v = c['dModel'], c['dMlp'], c['dVocab']
        n = lambda *s: torch.randn(*s, generator=g) * 0.02  # noqa: E731
        self.h, self.e, self.eps = c['nHeads'], d // c['nHeads'], 1e-5
        self.W_E, self.W_pos = n(v, d), n(c['nCtx'], d)
        self.W_U, self.b_U = self.W_E.t().contiguous(), torch.zeros(v)
        self.ln_f = (torch.ones(d), torch.zeros(d))
        self.blocks = [dict(ln1=(torch.ones(d), torch.zeros(d)), ln2=(torch.ones(d), torch.zeros(d)),
                            W_Q=n(d, d), b_Q=torch.zeros(d), W_K=n(d, d), b_K=torch.zeros(d),
                            W_V=n(d, d), b_V=torch.zeros(d), W_O=n(d, d), b_O=torch.zeros(d),
                            W_in=n(d, m), b_in=torch.zeros(m), W_out=n(m, d), b_out=torch.zeros(d))
                       for _ in range(c['nLayers'])]

    def ln(self, x, wb, hook, name):
        x = x - x.mean(-1, keepdim=True)
        scale = hook(f'{name}.hook_scale', (x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt())
        return hook(f'{name}.hook_normalized', x / scale * wb[0] + wb[1])

    def attn(self, x, p, hook, pre):
        b, s, _ = x.shape
        q = hook(f'{pre}.hook_q', (x @ p['W_Q'] + p['b_Q']).view(b, s, self.h, self.e))
        k = hook(f'{pre}.hook_k', (x @ p['W_K'] + p['b_K']).view(b, s, self.h, self.e))
        v = hook(f'{pre}.hook_v', (x @ p['W_V'] + p['b_V']).view(b, s, self.h, self.e))
        scores = (q.permute(0, 2, 1, 3) @ k.permute(0, 2, 3, 1)) / math.sqrt(self.e)  # [b, h, q, k]
        causal = torch.ones(s, s, dtype=torch.bool).triu(1)
        scores = hook(f'{pre}.hook_attn_scores', scores.masked_fill(causal, float('-inf')))
        pattern = hook(f'{pre}.hook_pattern', scores.softmax(-1))
        z = hook(f'{pre}.hook_z', (pattern @ v.permute(0, 2, 1, 3)).permute(0, 2, 1, 3))  # [b, s, h, e]
        return z.reshape(b, s, self.h * self.e) @ p['W_O'] + p['b_O']

    def forward(self, tokens, hook=no_hook):
        b, s = tokens.shape
        resid = hook('hook_embed', self.W_E[tokens]) + hook(
            'hook_pos_embed', self.W_pos[:s].unsqueeze(0).expand(b, s, -1))
        for l, p in enumerate(self.blocks):
            pre = f'blocks.{l}'
            resid = hook(f'{pre}.hook_resid_pre', resid)
            attn_out = hook(f'{pre}.hook_attn_out', self.attn(self.ln(resid, p['ln1'], hook, f'{pre}.ln1'), p, hook, f'{pre}.attn'))
            resid = hook(f'{pre}.hook_resid_mid', resid + attn_out)
            x = self.ln(resid, p['ln2'], hook, f'{pre}.ln2')
            post = hook(f'{pre}.mlp.hook_post', gelu_new(hook(f'{pre}.mlp.hook_pre', x @ p['W_in'] + p['b_in'])))
            resid = hook(f'{pre}.hook_resid_post', resid + hook(f'{pre}.hook_mlp_out', post @ p['W_out'] + p['b_out']))
        return self.ln(resid, self.ln_f, hook, 'ln_final') @ self.W_U + self.b_U  # [b, s, d_vocab]

    def run_with_cache(self, tokens, names=None):
        cache = {}

        def rec(name, x):
            if names is None or name in names:
                cache[name] = x.detach().clone()
            return x
        return self.forward(tokens, rec), cache


def gpt2_tokens(b, p, vocab):
    return torch.tensor([[(i * 7919 + j * 104729) % vocab for j in range(p)] for i in range(b)])


# ---------------------------------------------------------------- workloads: forward, cache, patching

def bench_forward_cache(model, cfg, groups, runs, out, extra):
    for b, p in cfg['shapes']:
        tokens = gpt2_tokens(b, p, cfg['gpt2']['dVocab'])
        with torch.inference_mode():
            if 'forward' in groups:
                out[f'forward_{b}x{p}'] = time_median(lambda: model.forward(tokens), runs)
                log(f'torch: forward {b}x{p} {out[f"forward_{b}x{p}"]:.3f} s')
            if 'cache' in groups:
                out[f'cache_{b}x{p}'] = time_median(lambda: model.run_with_cache(tokens), runs)
                _, cache = model.run_with_cache(tokens)
                extra[f'cache_{b}x{p}_entries'] = len(cache)
                extra[f'cache_{b}x{p}_mb'] = round(sum(t.numel() * t.element_size() for t in cache.values()) / 1e6, 1)
                del cache
                log(f'torch: cache {b}x{p} {out[f"cache_{b}x{p}"]:.3f} s')
        if (b, p) == tuple(cfg['shapes'][0]) and ('forward' in groups or 'cache' in groups):
            extra[f'peak_rss_mb_after_{b}x{p}'] = round(peak_rss_mb(), 1)


def patch_resid_pre(model, corrupted, clean_cache, correct, wrong, n_layers, k_max):
    """get_act_patch_resid_pre, k_max patched copies per forward (as genericActivationPatch)."""
    b, s = corrupted.shape
    rows = [(l, p) for l in range(n_layers) for p in range(s)]
    result = torch.empty(len(rows))
    for i in range(0, len(rows), k_max):
        group = rows[i:i + k_max]
        k = len(group)

        def hook(name, x):
            if not name.endswith('hook_resid_pre'):
                return x
            layer = int(name.split('.')[1])
            sel = [(c, p) for c, (l, p) in enumerate(group) if l == layer]
            if not sel:
                return x
            x = x.clone().view(k, b, s, -1)
            cs, ps = torch.tensor([c for c, _ in sel]), torch.tensor([p for _, p in sel])
            x[cs, :, ps] = clean_cache[name][:, ps].permute(1, 0, 2)  # [n_sel, batch, d_model]
            return x.view(k * b, s, -1)
        logits = model.forward(corrupted.repeat(k, 1), hook).view(k, b, s, -1)[:, :, -1]  # [k, batch, d_vocab]
        result[i:i + k] = (logits[..., correct] - logits[..., wrong]).mean(1)
    return result.view(n_layers, s)


def bench_patching(model, cfg, runs, out, extra):
    pc, vocab = cfg['patching'], cfg['gpt2']['dVocab']
    clean = gpt2_tokens(1, pc['pos'], vocab)
    corrupted = clean.clone()
    corrupted[0, pc['changedPos']] = (clean[0, pc['changedPos']] + 1) % vocab
    k_max = pc.get('copies') or max(1, min(64, 1024 // pc['pos']))  # our defaultPatchBatch(1, pos)
    res = {}

    def sweep():
        _, cache = model.run_with_cache(clean)
        res['r'] = patch_resid_pre(model, corrupted, cache, pc['answer'], pc['wrong'], cfg['gpt2']['nLayers'], k_max)
    with torch.inference_mode():
        key = f'patching_resid_pre_1x{pc["pos"]}'
        out[key] = time_median(sweep, runs)
        metric = lambda t: (lambda lg: (lg[0, -1, pc['answer']] - lg[0, -1, pc['wrong']]).item())(model.forward(t))  # noqa: E731
        extra['patching'] = patching_check(res['r'], metric(clean), metric(corrupted), pc['changedPos'], k_max)
        if ARGS.small:  # batched copies must equal the one-at-a-time definition
            _, cache = model.run_with_cache(clean)
            seq = patch_resid_pre(model, corrupted, cache, pc['answer'], pc['wrong'], cfg['gpt2']['nLayers'], 1)
            extra['patching']['vs_sequential_max_diff'] = (seq - res['r']).abs().max().item()
    log(f'torch: {key} {out[key]:.3f} s ({extra["patching"]})')


def patching_check(r, clean_m, corr_m, changed, k_max):
    """Layer 0: patching the changed position restores the clean metric, any other keeps the corrupted one."""
    norm = (r[0] - corr_m) / (clean_m - corr_m)
    expect = torch.zeros_like(norm)
    expect[changed] = 1
    err = (norm - expect).abs().max().item()
    return {'shape': list(r.shape), 'forwards': math.ceil(r.numel() / k_max), 'copies_per_forward': k_max,
            'layer0_max_err': round(err, 6), 'ok': err < 1e-2}


# ---------------------------------------------------------------- workload: SAE training step

def sae_step_fn(arch, c, x):
    g = torch.Generator().manual_seed(0)
    d_in, d_sae = c['dIn'], c['dSae']
    w_dec = torch.randn(d_sae, d_in, generator=g)
    w_dec = w_dec / w_dec.norm(dim=1, keepdim=True) * 0.1
    params = [w_dec.t().clone().requires_grad_(), torch.zeros(d_sae, requires_grad=True),
              w_dec.requires_grad_(), torch.zeros(d_in, requires_grad=True)]
    W_enc, b_enc, W_dec, b_dec = params
    opt = torch.optim.Adam(params, lr=c['lr'])
    batch = x.shape[0]

    def step():
        opt.zero_grad(set_to_none=True)
        h = (x - b_dec) @ W_enc + b_enc  # [batch, d_sae]
        norms = W_dec.norm(dim=1)  # [d_sae]
        if arch == 'standard':
            f = F.relu(h)
            sparsity = c['l1'] * (f * norms).sum(-1).mean()
        else:  # topk: ReLU of the k largest decoder-norm-scaled pre-activations
            with torch.no_grad():
                idx = (h * norms).topk(c['k'], dim=-1).indices
            f = torch.zeros_like(h).scatter(-1, idx, F.relu(h.gather(-1, idx)))
            sparsity = torch.zeros(())
        err = f @ W_dec + b_dec - x  # [batch, d_in]
        mse = err.pow(2).sum(-1).mean()
        (mse + sparsity).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():  # step statistics read back, as our trainer does
            fired = (f > 0).float().sum(0)
            head = torch.stack([mse, sparsity, torch.zeros(()), fired.sum() / batch, err.pow(2).sum(),
                                (x - x.mean(0)).pow(2).sum()])
            torch.cat([head, fired]).tolist()
    return step


def bench_sae(cfg, runs, out):
    c = cfg['sae']
    x = torch.randn(c['batch'], c['dIn'], generator=torch.Generator().manual_seed(1))
    for arch in ['standard', 'topk']:
        out[f'sae_{arch}'] = time_median(sae_step_fn(arch, c, x), runs)
        log(f'torch: sae {arch} {out[f"sae_{arch}"]:.3f} s/step')


# ---------------------------------------------------------------- workload: probe features

class Encoder:
    """DistilBERT (post-LN, no token types) with TL-layout weights; returns q_lin of one layer."""

    def __init__(self, c, seed=0):
        g = torch.Generator().manual_seed(seed)
        d, m = c['dModel'], c['dMlp']
        n = lambda *s: torch.randn(*s, generator=g) * 0.02  # noqa: E731
        ln = lambda: (torch.ones(d), torch.zeros(d))  # noqa: E731
        self.h, self.e = c['nHeads'], d // c['nHeads']
        self.W_E, self.W_pos, self.emb_ln = n(c['dVocab'], d), n(c['nCtx'], d), ln()
        self.blocks = [dict(W_Q=n(d, d), b_Q=torch.zeros(d), W_K=n(d, d), b_K=torch.zeros(d), W_V=n(d, d),
                            b_V=torch.zeros(d), W_O=n(d, d), b_O=torch.zeros(d), ln1=ln(), ln2=ln(),
                            W_in=n(d, m), b_in=torch.zeros(m), W_out=n(m, d), b_out=torch.zeros(d))
                       for _ in range(c['nLayers'])]

    def q_of_layer(self, ids, mask, layer):
        b, s = ids.shape
        d = self.h * self.e
        x = F.layer_norm(self.W_E[ids] + self.W_pos[:s], (d,), *self.emb_ln, eps=1e-12)
        add_mask = torch.zeros(b, 1, 1, s).masked_fill(mask[:, None, None, :] == 0, float('-inf'))
        for l in range(layer + 1):  # stop at q of layer L, as extractPooledFeatures (runWithCache stops at the last recorded hook)
            p = self.blocks[l]
            q = x @ p['W_Q'] + p['b_Q']
            if l == layer:
                return q
            split = lambda t: t.view(b, s, self.h, self.e).transpose(1, 2)  # noqa: E731
            scores = split(q) @ split(x @ p['W_K'] + p['b_K']).transpose(-1, -2) / math.sqrt(self.e) + add_mask
            z = (scores.softmax(-1) @ split(x @ p['W_V'] + p['b_V'])).transpose(1, 2).reshape(b, s, d)
            x = F.layer_norm(x + z @ p['W_O'] + p['b_O'], (d,), *p['ln1'], eps=1e-12)
            x = F.layer_norm(x + F.gelu(x @ p['W_in'] + p['b_in']) @ p['W_out'] + p['b_out'], (d,), *p['ln2'], eps=1e-12)
        raise ValueError(f'layer {layer} out of range')


def probe_batch(c, vocab):
    """Token ids and mask of `texts` rows: [CLS] … [SEP] of varying length, right-padded with 0."""
    n, max_len = c['texts'], c['maxLength']
    lengths = [max(3, max_len - (i * 37) % (max_len // 2)) for i in range(n)]
    ids = [[101 if j == 0 else 102 if j == ln - 1 else 103 + (i * 7919 + j * 104729) % (vocab - 103) if j < ln else 0
            for j in range(max_len)] for i, ln in enumerate(lengths)]
    return ids, [[1 if j < ln else 0 for j in range(max_len)] for ln in lengths], lengths


def extract_pooled(enc, ids, mask, lengths, layer, bs):
    order = sorted(range(len(ids)), key=lambda i: lengths[i])
    out = torch.empty(len(ids), enc.h * enc.e)
    for s in range(0, len(ids), bs):
        rows = order[s:s + bs]
        w = max(lengths[r] for r in rows)
        m = torch.tensor([mask[r][:w] for r in rows], dtype=torch.float32)
        q = enc.q_of_layer(torch.tensor([ids[r][:w] for r in rows]), m, layer)  # [batch, pos, d_model]
        out[rows] = (q * m[..., None]).sum(1) / m.sum(1, keepdim=True)
    if not torch.isfinite(out).all():
        raise RuntimeError('probe features are not finite')
    return out


def bench_probe(cfg, runs, out):
    c = cfg['probe']
    enc = Encoder(cfg['encoder'])
    ids, mask, lengths = probe_batch(c, cfg['encoder']['dVocab'])
    with torch.inference_mode():
        for layer in c['layers']:
            key = f'probe_l{layer}_{c["texts"]}x{c["maxLength"]}'
            out[key] = time_median(lambda: extract_pooled(enc, ids, mask, lengths, layer, c['batchSize']), runs)
            log(f'torch: {key} {out[key]:.3f} s')


# ---------------------------------------------------------------- main

def main():
    with open(os.path.join(HERE, 'workloads.json')) as f:
        cfg = json.load(f)['small' if ARGS.small else 'full']
    groups = [g for g in ARGS.only.split(',') if g]
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        sys.exit(f'torch_ref.py: unknown workload {bad}; expected some of {GROUPS}')
    out, extra = {}, {}
    blas = blas_info()
    log(f'torch {torch.__version__}, BLAS {blas["name"]}, {torch.get_num_threads()} thread(s)')
    if 'forward' in groups or 'cache' in groups or 'patching' in groups:
        model = GPT2(cfg['gpt2'])
        bench_forward_cache(model, cfg, groups, ARGS.runs, out, extra)
        if 'patching' in groups:
            bench_patching(model, cfg, ARGS.runs, out, extra)
        del model
    if 'sae' in groups:
        bench_sae(cfg, ARGS.runs, out)
    if 'probe' in groups:
        bench_probe(cfg, ARGS.runs, out)
    result = {'side': 'pytorch', 'torch': torch.__version__, 'debian_package': debian_version(), 'blas': blas,
              'threads': torch.get_num_threads(), 'runs': ARGS.runs, 'small': ARGS.small,
              'env': {k: os.environ.get(k) for k in ['OPENBLAS_CORETYPE', 'OMP_WAIT_POLICY', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS']},
              'workloads': {k: round(v, 4) for k, v in out.items()}, 'extra': extra,
              'peak_rss_mb': round(peak_rss_mb(), 1)}
    if ARGS.json:
        print(json.dumps(result))
    else:
        for k, v in out.items():
            print(f'{k:32s} {v:8.3f} s')
        print(json.dumps(extra, indent=1))


if __name__ == '__main__':
    main()
