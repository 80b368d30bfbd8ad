"""The only tags and filters a mail template may use (the sandbox's builtins).

No tag that reads files or other templates (`include`, `extends`, `load`, `ssi`), none that
reveals the context or the server (`debug`, `url`, `csrf_token`, `now`), and no filter that
turns a value into unescaped HTML (`safe`, `safeseq`, `urlize`, `linebreaks`, …): a
customer's name is always escaped. Nor padding and precision filters (`stringformat`,
`floatformat`, `ljust`, `center`) whose argument could make one mail gigabytes long.
"""

from django.template import Library, defaultfilters, defaulttags

register = Library()

TAGS = ("if", "firstof", "with", "comment", "spaceless")
FILTERS = (
    "default", "default_if_none", "upper", "lower", "title", "capfirst", "truncatechars",
    "truncatewords", "date", "yesno", "pluralize", "length", "cut", "add", "wordcount",
)  # fmt: skip

for _name in TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
for _name in FILTERS:
    register.filters[_name] = defaultfilters.register.filters[_name]
