"""The phone line as a channel: residents phone in, speak or press keys, and the same engine answers.

sip.py       the SIP endpoint on baresip-python (thin wrapper: the library is alpha)
agi.py       a FastAGI server (panoramisk) for sites whose switch is Asterisk/FreePBX
hotline.py   the per-process pieces: engine turns, speech, recognizer, caller binding, call limit
flow.py      the call flow driving the engine, rendering replies as keypad prompts
service.py   starting the line on its own (python -m bot phone) or with the server
"""
