{# One group's lines of upload.sh: an `upload` of each Graph custom-configuration body. #}
{% for profile in profiles %}
upload {{ profile.odata_type|sh_quote }} {{ profile.name|sh_quote }} {{ group|sh_quote }} {{ profile.path|sh_quote }}
{% endfor %}
