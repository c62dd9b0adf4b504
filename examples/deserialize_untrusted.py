"""Loading untrusted data: strict JSON, limited safe YAML, and never pickle."""

from __future__ import annotations

from securekit.deserialize import load_json, load_yaml, refuse_pickle
from securekit.errors import ConfigurationError, InputValidationError

CONFIG = """
defaults: &defaults
  retries: 3
  timeout: 10
service:
  <<: *defaults
  name: api
  ports: [80, 443]
"""

BILLION_LAUGHS = "\n".join(
    ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
)


def main() -> None:
    print("yaml:", load_yaml(CONFIG))
    print("json:", load_json(b'{"user": "alice", "roles": ["admin"]}'))

    hostile = {
        "billion laughs (10**9 nodes once expanded)": BILLION_LAUGHS,
        "python object tag": '!!python/object/apply:os.system ["id"]',
        "duplicate keys": "role: user\nrole: admin\n",
        "recursive alias": "&a [*a]",
    }
    for name, text in hostile.items():
        try:
            load_yaml(text)
        except InputValidationError as exc:
            print(f"refused {name}: {exc.reason.value}")
    try:
        load_json('{"role": "user", "role": "admin"}')
    except InputValidationError as exc:
        print("refused duplicate JSON keys:", exc.reason.value)

    # Where code used to call pickle.loads on data from outside, bind the refusal:
    loads = refuse_pickle
    try:
        loads(b"cos\nsystem\n(S'id'\ntR.")  # the classic pickle payload: runs `id`
    except ConfigurationError as exc:
        print("pickle refused:", exc)


if __name__ == "__main__":
    main()
