"""KGSM: running kgsm.sh for the server commands.

Owns: KGSM's command-line syntax in each era (`syntax`), running it safely (`cli`: an argument list, names
checked first, a time limit, bounded output, one command per server at a time).
May import: the standard library only.
"""
