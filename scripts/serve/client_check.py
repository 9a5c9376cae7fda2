"""Checks a running ecom-serve with the official `openai` Python client (and raw HTTP for what the client cannot send).

Usage: client_check.py BASE_URL API_KEY [--expect FILE] [--max-body N] [--context N]

FILE (optional) holds ecom-generate's greedy answers for the same prompts, JSON {"chat": {prompt: text},
"completion": {prompt: text}, "max_tokens": N}: the server's greedy answers must equal them. Prints one line per check
and exits 1 if any failed.
"""
import argparse
import concurrent.futures
import json
import sys
import urllib.error
import urllib.request

import openai

failures = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + str(detail) if detail and not ok else ''}")
    if not ok:
        failures.append(name)


def raw(base, path, body, key, method="POST"):
    """(status, parsed JSON body) of a raw request."""
    req = urllib.request.Request(base.rstrip("/") + path, data=body, method=method,
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, {"raw": text.decode("utf-8", "replace")}


def error_shape(obj):
    e = obj.get("error") if isinstance(obj, dict) else None
    return isinstance(e, dict) and all(k in e for k in ("message", "type", "param", "code"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("key")
    ap.add_argument("--expect")
    ap.add_argument("--max-body", type=int, default=1 << 20)
    ap.add_argument("--context", type=int, default=2048)
    a = ap.parse_args()
    expect = json.load(open(a.expect)) if a.expect else {"chat": {}, "completion": {}, "max_tokens": 8}
    n = expect["max_tokens"]
    client = openai.OpenAI(base_url=a.base, api_key=a.key, max_retries=0, timeout=600)

    models = client.models.list()
    check("models.list names one model", len(models.data) == 1 and models.data[0].object == "model", models)
    name = models.data[0].id

    prompts = list(expect["chat"]) or ["What is the capital of France?"]
    for p in prompts:
        r = client.chat.completions.create(model="any-name", messages=[{"role": "user", "content": p}], max_tokens=n, temperature=0)
        text = r.choices[0].message.content
        check("chat: response shape", r.object == "chat.completion" and r.model == name and r.choices[0].message.role == "assistant"
              and r.usage.completion_tokens <= n and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, r)
        if p in expect["chat"]:
            check(f"chat greedy equals ecom-generate ({p!r})", text == expect["chat"][p], f"{text!r} != {expect['chat'][p]!r}")
        stream = client.chat.completions.create(model=name, messages=[{"role": "user", "content": p}], max_tokens=n, temperature=0,
                                                stream=True, stream_options={"include_usage": True})
        deltas, finish, usage = [], None, None
        for chunk in stream:
            if chunk.usage:
                usage = chunk.usage
            for c in chunk.choices:
                if c.delta.content:
                    deltas.append(c.delta.content)
                finish = c.finish_reason or finish
        check("chat stream adds up to the answer", "".join(deltas) == text, f"{''.join(deltas)!r} != {text!r}")
        check("chat stream ends with finish_reason and usage", finish in ("stop", "length") and usage is not None
              and usage.completion_tokens == r.usage.completion_tokens, (finish, usage))

        # Concurrent identical greedy requests (decoded together) give the same answer.
        def one(_):
            return client.chat.completions.create(model=name, messages=[{"role": "user", "content": p}], max_tokens=n,
                                                  temperature=0).choices[0].message.content
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(one, range(6)))
        check("6 concurrent greedy chats equal the lone answer", all(x == text for x in answers), answers)

    for p in list(expect["completion"]) or ["Once upon a time"]:
        r = client.completions.create(model=name, prompt=p, max_tokens=n, temperature=0)
        check("completion: response shape", r.object == "text_completion" and r.choices[0].finish_reason in ("stop", "length"), r)
        if p in expect["completion"]:
            check(f"completion greedy equals ecom-generate ({p!r})", r.choices[0].text == expect["completion"][p],
                  f"{r.choices[0].text!r} != {expect['completion'][p]!r}")
        parts = [c.choices[0].text for c in client.completions.create(model=name, prompt=p, max_tokens=n, temperature=0, stream=True)
                 if c.choices]
        check("completion stream adds up to the answer", "".join(parts) == r.choices[0].text, parts)

    # Sampling with a seed is repeatable; stop strings cut the answer.
    s1 = client.chat.completions.create(model=name, messages=[{"role": "user", "content": "Tell me a story."}], max_tokens=n,
                                        temperature=0.9, top_p=0.95, seed=7).choices[0].message.content
    s2 = client.chat.completions.create(model=name, messages=[{"role": "user", "content": "Tell me a story."}], max_tokens=n,
                                        temperature=0.9, top_p=0.95, seed=7).choices[0].message.content
    check("seeded sampling is repeatable", s1 == s2, (s1, s2))
    full = client.completions.create(model=name, prompt="Once upon a time", max_tokens=n, temperature=0).choices[0].text
    if len(full.strip()) >= 2:
        cut_at = full.strip()[1]
        cut = client.completions.create(model=name, prompt="Once upon a time", max_tokens=n, temperature=0, stop=[cut_at])
        check("a stop string cuts the answer", cut.choices[0].text == full[:full.index(cut_at)] and cut.choices[0].finish_reason == "stop",
              (cut.choices[0].text, full))

    # Errors, through the client and raw.
    try:
        openai.OpenAI(base_url=a.base, api_key="wrong-key", max_retries=0).models.list()
        check("wrong key refused", False, "no error")
    except openai.AuthenticationError as e:
        check("wrong key -> 401 AuthenticationError", e.status_code == 401 and error_shape(e.response.json()), e.response.text)
    try:
        client.completions.create(model=name, prompt="hello " * a.context, max_tokens=4)
        check("context overflow refused", False, "no error")
    except openai.BadRequestError as e:
        check("context overflow -> 400 context_length_exceeded", e.code == "context_length_exceeded", e.response.text)
    status, body = raw(a.base, "/chat/completions", b'{"model": "m", "messages": [', a.key)
    check("malformed JSON -> 400", status == 400 and error_shape(body), (status, body))
    status, body = raw(a.base, "/chat/completions", json.dumps({"model": "m"}).encode(), a.key)
    check("missing messages -> 400 param messages", status == 400 and error_shape(body) and body["error"]["param"] == "messages", body)
    status, body = raw(a.base, "/chat/completions", b"{" + b" " * (a.max_body + 10) + b"}", a.key)
    check("body over the limit -> 413", status == 413 and error_shape(body), (status, body))
    status, body = raw(a.base, "/nothing", b"{}", a.key)
    check("unknown route -> 404", status == 404 and error_shape(body), (status, body))
    status, body = raw(a.base, "/chat/completions", b'{"model": "m", "messages": [{"role": "user", "content": "\xff\xfe"}]}', a.key)
    check("invalid UTF-8 -> 400", status == 400 and error_shape(body), (status, body))
    status, body = raw(a.base, "/models", None, a.key, method="GET")
    check("server still answers after the errors", status == 200, status)

    print(json.dumps({"checks_failed": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
