"""Workshop rooms: many participants on their phones, one locality (issue 14).

- :mod:`civsim.rooms.seats` -- the seats and the model levers each one moves;
- :mod:`civsim.rooms.plan` -- decisions as changes to a running model, and the decisions file;
- :mod:`civsim.rooms.game` -- one room's locality, rounds, story and debrief;
- :mod:`civsim.rooms.registry` -- the shared, locked layer every browser tab talks to;
- :mod:`civsim.rooms.room` -- one room (:mod:`civsim.rooms.room_view`: what pages draw of it;
  :mod:`civsim.rooms.room_limits`: its caps, join codes and names).

The pages are :mod:`civsim.app.page_room` (host, ``/room``) and
:mod:`civsim.app.page_join` (phones, ``/join``).
"""
