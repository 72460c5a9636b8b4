{# One group's part of upload.sh: its set gets exactly the group's declarations (upload.sh
   gives it to enrollments afterwards, from enrollment-sets.tsv). #}

# group {{ group }}
set={{ set|sh_quote }}
while read -r id; do
  api PUT "/v1/set-declarations/$set?declaration=$id&nonotify=1"
done < {{ members|sh_quote }}
reconcile "$set" {{ members|sh_quote }}
touched="$touched$set
"
