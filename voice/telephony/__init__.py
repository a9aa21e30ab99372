"""Call audio primitives the phone channel (bot/channels/phone) is built on.

call.py      what a call flow sees of a call: prompts out; keys, speech or silence in; transfer; hang-up
framed.py    that abstraction over raw 8 kHz frames (VAD end-of-speech, barge-in, DTMF queue)
"""
