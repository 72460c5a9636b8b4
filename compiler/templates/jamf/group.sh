{# One group's lines of upload.sh: an `upload` of each Classic API body. #}
{% for profile in profiles %}
upload {{ profile.endpoint }} {{ profile.name|sh_quote }} {{ profile.path|sh_quote }} {{ profile.description|sh_quote }}
{% endfor %}
