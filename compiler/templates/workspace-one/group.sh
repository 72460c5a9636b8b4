{# One group's lines of upload.sh: an `upload` of each profiles-v2 API body. #}
{% for profile in profiles %}
upload {{ profile.segment }} {{ profile.platform|sh_quote }} {{ profile.name|sh_quote }} {{ group|sh_quote }} {{ profile.path|sh_quote }}
{% endfor %}
